import{A as e,n}from"./index-D3neuBzW.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
