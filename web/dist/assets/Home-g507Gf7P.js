import{A as e,n}from"./index-epo8rG1S.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
