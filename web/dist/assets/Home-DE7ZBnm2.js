import{A as e,n}from"./index-CLNBR2-t.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
